/**
 * The listening socket systemd passed (socket activation, sd_listen_fds: descriptor 3), when it was
 * passed to this process or to its launcher (bin/<name> is a shell whose child runs Node.js);
 * undefined when none was. The variables are cleared, so a process this one starts does not take it too.
 */
export function activatedSocket(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const fds = Number(env.LISTEN_FDS ?? 0);
  const forUs = env.LISTEN_PID === String(process.pid) || env.LISTEN_PID === String(process.ppid);
  if (fds <= 0 || !forUs) return undefined;
  if (fds > 1) throw new Error(`too many (${fds}) sockets passed through socket activation; expected one`);
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  return 3;
}
