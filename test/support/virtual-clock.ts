/**
 * A clock the code accepts, for suites whose verdict must not depend on the machine's load: the
 * real clock plus an offset that only `advance` moves. Overlap windows are made far longer than a
 * history can take in real time, so no window ends on its own while a job runs; only an explicit
 * "time passes" step ends one, at the same point of the history on every run.
 *
 * What the clock reaches: the jobs (`now` of the job dependencies), the Credly fake (its clock
 * dates what it creates and expires), the driver's delayed jobs, and the dates Secrets Manager
 * gives its versions, which the emulator takes from the real clock: `fromReal` maps such a date
 * to the virtual instant it was written at, with the offset in force then.
 */
export class VirtualClock {
  private offset = 0;
  /** Each advance: from which real instant which offset holds. */
  private readonly steps: Array<{ realAt: number; offset: number }> = [];

  /** Milliseconds since the epoch on this clock. */
  now(): number {
    return Date.now() + this.offset;
  }

  date(): Date {
    return new Date(this.now());
  }

  /**
   * Time passes at once by `ms`. The new offset holds from the next whole second of the real clock,
   * and this waits until then (at most a second): the emulator dates versions in whole seconds, so
   * every version written before the advance is dated before that second, every one after it at or
   * after, and `fromReal` never gives a version the other side's offset.
   */
  async advance(ms: number): Promise<void> {
    const realAt = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await new Promise((resolve) => setTimeout(resolve, realAt - Date.now()));
    while (Date.now() < realAt) await new Promise((resolve) => setTimeout(resolve, 1));
    this.step(ms, realAt);
  }

  /**
   * Time passes at once by `ms`, without waiting for the next whole second: a version written within
   * the same second may be dated with the offset before. For the steps between the actions of a
   * history, where a version's date matters only against what the same action created.
   */
  skip(ms: number): void {
    this.step(ms, Date.now());
  }

  private step(ms: number, realAt: number): void {
    if (!(ms >= 0)) throw new Error(`a clock only moves forward, not by ${ms} ms`);
    this.offset += ms;
    this.steps.push({ realAt, offset: this.offset });
  }

  /** The instant on this clock of something dated `realMs` by the real clock. */
  fromReal(realMs: number): number {
    let offset = 0;
    for (const step of this.steps) if (step.realAt <= realMs) offset = step.offset;
    return realMs + offset;
  }
}
