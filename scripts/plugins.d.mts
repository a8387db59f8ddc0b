export declare const PLUGINS: ReadonlyArray<{ name: string; main: string; snapshot: 'pod' | 'attach' | 'tools' }>;
