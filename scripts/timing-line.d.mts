export interface TimingLine {
  startedFrom: string;
  pluginStartMs: number;
  verbMs?: number;
  endMs: number;
  maxRssBytes: number;
}
export declare function timingOf(text: string): TimingLine | undefined;
