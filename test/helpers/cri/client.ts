import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { decode, encode, mapField, messageOf, type ProtoField, stringOf } from './protobuf';

/** What a kubelet puts into RunPodSandbox that the network path reads. */
export interface PodSpec {
  name: string;
  namespace?: string;
  uid: string;
  hostname?: string;
  logDirectory: string;
  dns?: { servers: string[]; searches?: string[]; options?: string[] };
  ports?: Array<{ protocol?: 'TCP' | 'UDP' | 'SCTP'; containerPort: number; hostPort: number; hostIP?: string }>;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface PodStatus {
  id: string;
  ready: boolean;
  /** The pod's addresses as containerd reports them (network.ip, then additional_ips). */
  ips: string[];
  /** The verbose info's "info" entry, parsed (pid, runtime spec, CNI result). */
  info?: { pid?: number; [key: string]: unknown };
}

/** gRPC's failure, with its status code (2 UNKNOWN, 5 NOT_FOUND, 14 UNAVAILABLE, …). */
export class GrpcError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`gRPC status ${status}: ${message}`);
  }
}

const PROTOCOLS = { TCP: 0, UDP: 1, SCTP: 2 };
const RUNTIME = '/runtime.v1.RuntimeService';

/**
 * The kubelet's side of CRI v1 for pod sandboxes, over gRPC (HTTP/2, one unary call at a time per
 * request) on containerd's socket: the few messages used, written from the API's field numbers.
 */
export class CriClient {
  private readonly session: ClientHttp2Session;

  constructor(socketPath: string) {
    this.session = http2Connect('http://localhost', { createConnection: () => netConnect(socketPath) });
    this.session.on('error', () => undefined);
  }

  close(): void {
    this.session.close();
  }

  async runPodSandbox(pod: PodSpec): Promise<string> {
    const config: ProtoField[] = [
      [
        1,
        [
          [1, pod.name],
          [2, pod.uid],
          [3, pod.namespace ?? 'default'],
          [4, 0],
        ],
      ],
      [2, pod.hostname ?? pod.name],
      [3, pod.logDirectory],
      [
        4,
        pod.dns && [
          ...pod.dns.servers.map((s): ProtoField => [1, s]),
          ...(pod.dns.searches ?? []).map((s): ProtoField => [2, s]),
          ...(pod.dns.options ?? []).map((s): ProtoField => [3, s]),
        ],
      ],
      ...(pod.ports ?? []).map(
        (p): ProtoField => [
          5,
          [
            [1, PROTOCOLS[p.protocol ?? 'TCP']],
            [2, p.containerPort],
            [3, p.hostPort],
            [4, p.hostIP],
          ],
        ],
      ),
      ...mapField(6, pod.labels ?? {}),
      ...mapField(7, pod.annotations ?? {}),
      // linux: an empty message, as a kubelet sends for a pod without a cgroup parent
      [8, Buffer.alloc(0)],
    ];
    const reply = await this.call('RunPodSandbox', [[1, config]]);
    return stringOf(reply, 1);
  }

  async podSandboxStatus(id: string, verbose = false): Promise<PodStatus> {
    const reply = await this.call('PodSandboxStatus', [
      [1, id],
      [2, verbose],
    ]);
    const status = messageOf(reply, 1);
    const network = messageOf(status, 5);
    const additional = (network.get(2) ?? []).map((m) => stringOf(decode(m as Buffer), 1));
    const infoEntries = (reply.get(2) ?? []).map((m) => decode(m as Buffer)).map((e) => [stringOf(e, 1), stringOf(e, 2)]);
    const info = Object.fromEntries(infoEntries).info;
    return {
      id: stringOf(status, 1),
      ready: (status.get(3)?.[0] ?? 0) === 0,
      ips: [stringOf(network, 1), ...additional].filter(Boolean),
      ...(info ? { info: JSON.parse(info) } : {}),
    };
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call('StopPodSandbox', [[1, id]]);
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call('RemovePodSandbox', [[1, id]]);
  }

  /** The ids of every sandbox containerd knows. */
  async listPodSandboxes(): Promise<string[]> {
    const reply = await this.call('ListPodSandbox', []);
    return (reply.get(1) ?? []).map((m) => stringOf(decode(m as Buffer), 1));
  }

  /** One unary call: the request framed (no compression, 4-byte length), the reply's message decoded. */
  private call(method: string, request: ProtoField[]): Promise<ReturnType<typeof decode>> {
    const body = encode(request);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    return new Promise((resolve, reject) => {
      const stream = this.session.request({ ':method': 'POST', ':path': `${RUNTIME}/${method}`, 'content-type': 'application/grpc', te: 'trailers' });
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let message = '';
      const grpcStatus = (headers: Record<string, unknown>) => {
        if (headers['grpc-status'] !== undefined) {
          status = Number(headers['grpc-status']);
          message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
        }
      };
      stream.on('response', grpcStatus);
      stream.on('trailers', grpcStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', reject);
      stream.on('end', () => {
        if (status !== 0) return reject(new GrpcError(status ?? -1, message || `${method}: no grpc-status`));
        const data = Buffer.concat(chunks);
        resolve(decode(data.length >= 5 ? data.subarray(5, 5 + data.readUInt32BE(1)) : Buffer.alloc(0)));
      });
      stream.end(frame);
    });
  }
}
