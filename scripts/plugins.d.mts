export declare const PLUGINS: ReadonlyArray<{ name: string; main: string; kind: 'plugin' | 'tool' }>;
