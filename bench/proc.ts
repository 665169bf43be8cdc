// What the benchmark reads about its child processes: CPU time and memory from /proc, and the port each says it
// listens on.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat. */
const TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, µs) a process has used so far, read from /proc (Linux; undefined elsewhere). Over a
 * run of thousands of requests the 10 ms tick is precise enough to tell CPU per request.
 */
export function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size (MB) of a process now, read from /proc (Linux; undefined elsewhere). */
export function rssMegabytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** System time (µs) of a process so far: the kernel's share of its CPU (socket writes, fsync). */
export function systemMicros(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 1e6) / TICKS;
  } catch {
    return 0;
  }
}

export function cpuOf(children: readonly ChildProcess[]): number | undefined {
  let sum = 0;
  for (const c of children) {
    const us = cpuMicros(c.pid);
    if (us === undefined) return undefined;
    sum += us;
  }
  return sum;
}

/**
 * The port a child process says it listens on. Its output is read (and dropped) for as long as it runs: a full
 * pipe would stall its writes (the request log).
 */
export function startedOn(child: ChildProcess, listening: RegExp, name: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let found = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (found) return;
      out += chunk.toString();
      const m = listening.exec(out);
      if (m) {
        found = true;
        out = '';
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', () => {
      if (!found) reject(new Error(`${name} did not start: ${out}`));
    });
  });
}

