export declare const PLUGINS: ReadonlyArray<{ name: string; main: string }>;
