/**
 * Runs the simulated sensors at their rates. Every sensor publishes its first reading at once and
 * then one every 1/rate seconds, kept on an absolute schedule so the average rate is exact however
 * late the timers fire.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Dimensions, Sensor } from './config.js'
import { createSensor, type SimulatedSensor } from './sensors.js'
import { isAbort, type Source, type SourceContext } from './source.js'

/**
 * Readings more than this late are skipped rather than sent in a burst (after the process was
 * stopped or starved), seconds.
 */
export const MAX_CATCH_UP_S = 0.25

export interface SensorSourceOptions {
  readonly sensors: readonly Sensor[]
  readonly rates: Readonly<Record<Sensor, number>>
  readonly cameraSize: Dimensions
  readonly sourceId: string
}

export function sensorSource(options: SensorSourceOptions): Source {
  const sensors = options.sensors.map((name) =>
    createSensor(name, { sourceId: options.sourceId, cameraSize: options.cameraSize }),
  )
  let skipped = 0
  return {
    kind: 'sensors',
    batched: true,
    describe: {
      sensors: Object.fromEntries(options.sensors.map((name) => [name, `${options.rates[name]} Hz`])),
      ...(options.sensors.includes('camera')
        ? { cameraSize: `${options.cameraSize.width}x${options.cameraSize.height}` }
        : {}),
    },
    async run(context) {
      skipped = 0
      await runSchedule(sensors, options.rates, context, (n) => {
        skipped += n
      })
      return undefined // sensors never run dry: only --count, --duration or a signal end them
    },
    summary: () => (skipped > 0 ? { skipped } : {}),
  }
}

async function runSchedule(
  sensors: readonly SimulatedSensor[],
  rates: Readonly<Record<Sensor, number>>,
  { sink, signal, logger }: SourceContext,
  onSkip: (readings: number) => void,
): Promise<void> {
  const start = performance.now()
  const sent = sensors.map(() => 0)
  while (!signal.aborted) {
    const elapsed = (performance.now() - start) / 1000
    for (const [i, sensor] of sensors.entries()) {
      const rate = rates[sensor.name]
      const due = Math.floor(elapsed * rate) + 1
      const behind = due - sent[i]! - Math.ceil(MAX_CATCH_UP_S * rate)
      if (behind > 0) {
        onSkip(behind)
        logger.debug(
          { sensor: sensor.name, skipped: behind },
          `${sensor.name}: skipped ${behind} late readings`,
        )
        sent[i]! += behind
      }
      while (sent[i]! < due) {
        if (signal.aborted) return
        const outcome = sink.send(sensor.topic, sensor.type, sensor.sample(sent[i]! / rate))
        if (outcome === false) return
        // Receivers hold the sender back (flow control): wait for their window, then offer the
        // reading again; readings that fall too far behind meanwhile are skipped, counted.
        if (outcome === 'back-pressured') {
          await sink.ready()
          break
        }
        sent[i]!++
      }
    }
    const next = Math.min(...sensors.map((sensor, i) => start + (sent[i]! / rates[sensor.name]) * 1000))
    try {
      await sleep(Math.max(0, next - performance.now()), undefined, { signal })
    } catch (error) {
      if (isAbort(error)) return
      throw error
    }
  }
}
