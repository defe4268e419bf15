import type { CommandResult, DoctorEnv, Probe } from '../doctor/types.js'

export interface FakeDoctorEnvOptions {
  /** File path → text; a path not listed cannot be read. */
  readonly files?: Readonly<Record<string, string>>
  /** `command arg arg` → what it printed; a command not listed is not installed. */
  readonly commands?: Readonly<Record<string, Partial<CommandResult>>>
  /** What the probe does: comes back, stays away, or cannot open. */
  readonly probe?: 'back' | 'lost' | Error
  readonly endianness?: 'LE' | 'BE'
}

/** A host for `--doctor` made of fixture text, and a record of what the checks did with it. */
export function fakeDoctorEnv(options: FakeDoctorEnvOptions = {}): DoctorEnv & {
  readonly ran: string[]
  readonly probes: { opened: number; closed: number }
} {
  const ran: string[] = []
  const probes = { opened: 0, closed: 0 }
  return {
    ran,
    probes,
    endianness: options.endianness ?? 'LE',
    readFile: (path) => options.files?.[path],
    async run(command, args) {
      const line = [command, ...args].join(' ')
      ran.push(line)
      const result = options.commands?.[line]
      if (result === undefined) return { status: 'missing', stdout: '', stderr: '' }
      return { status: result.status ?? 0, stdout: result.stdout ?? '', stderr: result.stderr ?? '' }
    },
    async openProbe(): Promise<Probe> {
      const outcome = options.probe ?? 'back'
      if (outcome instanceof Error) throw outcome
      probes.opened++
      return {
        roundTrip: async () => outcome === 'back',
        close: async () => {
          probes.closed++
        },
      }
    },
  }
}
