/** Types of bin/node-version.mjs (plain JavaScript, so that any Node.js can parse it). */
export declare const REQUIRED: string;
export declare const EXIT_UNSUPPORTED: number;
export declare function unsupportedNode(version: string): string | undefined;
