export type SnapshotGroup = 'pod' | 'attach' | 'tools';
export declare const PLUGINS: ReadonlyArray<{ name: string; main: string; snapshot: SnapshotGroup }>;
export declare const SNAPSHOT_GROUPS: readonly SnapshotGroup[];
