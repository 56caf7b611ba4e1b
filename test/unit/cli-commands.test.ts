import { describe, expect, it } from 'vitest';
import { COMMANDS, commandHelp, globalHelp, parseCommandLine } from '../../src/cli/commands.ts';
import { EXIT, UsageError } from '../../src/cli/exit-codes.ts';

/** The UsageError a command line is refused with. */
function refusal(argv: string[]): UsageError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

/** The option lines of a help text: the lines between `options:` and the blank line after them. */
function optionLines(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.startsWith('options'));
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end);
}

describe('rotator command line', () => {
  it('reads each command with its own options, typed, and its arguments', () => {
    expect(parseCommandLine(['trigger', 'credly-main', '--force', '--wait', '--timeout', '60', '--json', '--config', 'inv.yaml'])).toEqual({
      action: 'run',
      command: 'trigger',
      args: ['credly-main'],
      values: { force: true, wait: true, timeout: '60', json: true, config: 'inv.yaml' },
    });
    expect(parseCommandLine(['check', 'a', 'b', '--config-only'])).toEqual({
      action: 'run',
      command: 'check',
      args: ['a', 'b'],
      values: { 'config-only': true },
    });
    expect(parseCommandLine(['--config', 'inv.yaml', 'probe', 'x', '--allow-writes'])).toEqual({
      action: 'run',
      command: 'probe',
      args: ['x'],
      values: { config: 'inv.yaml', 'allow-writes': true },
    });
    // A string option's value is never taken for the command.
    expect(parseCommandLine(['--config', 'status', 'worker'])).toEqual({ action: 'run', command: 'worker', args: [], values: { config: 'status' } });
  });

  it("refuses an option of another command, naming the option, the command and the option's own command", () => {
    const error = refusal(['check', '--config-only', '--force', '--allow-writes']);
    expect(error.message).toBe(
      '--force is not an option of rotator check (it is an option of rotator trigger); rotator check takes --config-only, --config, --json, --help',
    );
    expect(error.command).toBe('check');
    expect(refusal(['status', '--timeout', '5']).message).toMatch(/^--timeout is not an option of rotator status \(it is an option of rotator trigger\)/);
    expect(refusal(['worker', '--json']).message).toMatch(
      /^--json is not an option of rotator worker \(it is an option of rotator check, rotator probe, rotator status, rotator radar, rotator trigger, rotator history\); rotator worker takes --config, --help$/,
    );
    expect(refusal(['trigger', 'x', '--allow-writes']).message).toMatch(
      /^--allow-writes is not an option of rotator trigger \(it is an option of rotator probe\)/,
    );
    expect(refusal(['status', '--version']).message).toMatch(/^--version is not an option of rotator status \(no command has it\)/);
  });

  it('refuses an option no command has, and one given without a command', () => {
    expect(refusal(['status', '--no-such-option']).message).toBe(
      '--no-such-option is not an option of rotator status (no command has it); rotator status takes --config, --json, --help',
    );
    expect(refusal(['probe', 'x', '-x']).message).toMatch(/^-x is not an option of rotator probe \(no command has it\)/);
    const bare = refusal(['--force']);
    expect(bare.message).toBe(
      '--force is not an option of rotator without a command (it is an option of rotator trigger); rotator without a command takes --help, --version, --json',
    );
    expect(bare.command).toBeUndefined();
  });

  it('refuses an unknown command, no command, a missing value and a value given to a flag', () => {
    expect(refusal(['frobnicate']).message).toBe('unknown command "frobnicate"; the commands: worker, check, probe, status, radar, trigger, history, help');
    expect(refusal([]).message).toBe('no command given');
    expect(refusal(['--json']).message).toBe('no command given');
    const missing = refusal(['trigger', 'x', '--wait', '--timeout']);
    expect(missing.message).toMatch(/^rotator trigger: Option '--timeout <value>' argument missing/);
    expect(missing.command).toBe('trigger');
    expect(refusal(['check', '--config-only=yes']).message).toMatch(/^rotator check: Option '--config-only' does not take an argument/);
  });

  it('asks for help: --help and -h per command, help <command>, the global help; --version only without a command', () => {
    expect(parseCommandLine(['--help'])).toEqual({ action: 'help' });
    expect(parseCommandLine(['-h'])).toEqual({ action: 'help' });
    expect(parseCommandLine(['trigger', '--help'])).toEqual({ action: 'help', command: 'trigger' });
    expect(parseCommandLine(['check', 'x', '-h'])).toEqual({ action: 'help', command: 'check' });
    expect(parseCommandLine(['help', 'probe'])).toEqual({ action: 'help', command: 'probe' });
    expect(parseCommandLine(['help'])).toEqual({ action: 'help' });
    expect(parseCommandLine(['help', '--help'])).toEqual({ action: 'help', command: 'help' });
    expect(refusal(['help', 'frobnicate']).message).toMatch(/^unknown command "frobnicate"/);
    expect(refusal(['help', 'check', 'status']).message).toBe('rotator help takes at most one command (got check status)');
    expect(parseCommandLine(['--version'])).toEqual({ action: 'version', json: false });
    expect(parseCommandLine(['--version', '--json'])).toEqual({ action: 'version', json: true });
  });

  it("prints each command's own options, one line each, and its exit codes; none of another command's", () => {
    const all = ['--config-only', '--allow-writes', '--force', '--wait', '--timeout', '--config', '--json', '--help', '--version'];
    for (const command of COMMANDS) {
      const help = commandHelp(command.name);
      expect(help.split('\n')[0]).toBe(`usage: rotator ${command.name}${command.args ? ` ${command.args}` : ''} [options]`);
      const lines = optionLines(help);
      expect(lines.map((l) => l.trim().match(/--[a-z-]+/)?.[0])).toEqual(command.options.map((o) => `--${o}`));
      for (const other of all.filter((o) => !command.options.includes(o.slice(2) as never)))
        expect(help, `${command.name} ${other}`).not.toMatch(new RegExp(`${other}\\b(?!-)`));
      const exits = help.slice(help.indexOf('exit codes:')).split('\n').slice(1);
      expect(exits.map((l) => Number(l.trim().split(' ')[0]))).toEqual(command.exits.map(([code]) => code));
    }
    const trigger = commandHelp('trigger');
    expect(trigger).toMatch(/^ {2}--timeout <seconds> {2}how long --wait waits \(default 300\); exit 5 when it runs out$/m);
    expect(trigger).toMatch(/^ {2}5 {2}--wait ran out with the job still running/m);
    expect(EXIT.timedOut).toBe(5);
  });

  it('lists every command in the global help, one line each, and every exit code', () => {
    const help = globalHelp();
    const commands = help.slice(help.indexOf('commands:')).split('\n').slice(1);
    expect(commands.slice(0, COMMANDS.length).map((l) => l.trim().split(' ')[0])).toEqual(COMMANDS.map((c) => c.name));
    expect(help).not.toContain('--force');
    const codes = help.slice(help.indexOf('exit codes:')).split('\n').slice(1);
    expect(codes.map((l) => Number(l.trim().split(' ')[0]))).toEqual([...new Set(Object.values(EXIT))].sort());
  });
});
