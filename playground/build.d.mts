// Types of playground/build.mjs, for the test that imports it.
export declare function buildPlayground(dir: string, options?: { logLevel?: 'info' | 'warn' | 'error' | 'silent' }): Promise<{ nodeEntry: string; lockFile: string }>
