/**
 * How much CPU other processes took while the bench measured: the machine's busy time from
 * /proc/stat minus the bench's own (each worker reports its CPU time; the coordinator reads its
 * own), in cores. On a two-core machine where sender and receiver each need one, anything above a
 * few hundredths of a core is competition, and the runs it touched are noisy.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** /proc/stat counts in USER_HZ ticks, 100 per second on Linux. */
export const TICKS_PER_SECOND = 100
/** Other processes' use, in cores, from which a measurement is flagged as noisy. */
export const NOISY_CORES = 0.15

function busyTicks(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    if (!line.startsWith('cpu ')) return undefined
    // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    return user + nice + system + irq + softirq + steal
  } catch {
    return undefined
  }
}

export class CpuWindow {
  readonly #busy = busyTicks()
  readonly #wall = performance.now()
  readonly #self = process.cpuUsage()

  /**
   * Cores' worth of CPU used since the window opened by anything but this process and the workers
   * whose CPU time (µs) is `workersUs`; undefined without /proc/stat.
   */
  othersCores(workersUs: number): number | undefined {
    const busy = busyTicks()
    const wallS = (performance.now() - this.#wall) / 1000
    if (busy === undefined || this.#busy === undefined || wallS <= 0) return undefined
    const self = process.cpuUsage(this.#self)
    const oursS = (workersUs + self.user + self.system) / 1e6
    return Math.max(0, ((busy - this.#busy) / TICKS_PER_SECOND - oursS) / wallS)
  }
}

/** Other processes' CPU use, in cores, over `ms` while the bench runs nothing. */
export async function idleProbe(ms = 2_000): Promise<number | undefined> {
  const window = new CpuWindow()
  await sleep(ms)
  return window.othersCores(0)
}
