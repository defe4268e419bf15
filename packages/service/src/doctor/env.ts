/** The doctor's view of this host: its files, its commands, its sockets. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { endianness } from 'node:os'
import { openTransportProbe } from './self-test.js'
import type { CommandResult, DoctorEnv } from './types.js'

/** Longest a command (`ip route get`, `iptables -S`, `nft list ruleset`) may take. */
export const COMMAND_TIMEOUT_MS = 5000
/** Most output read from one command; a ruleset larger than this is cut (and parsed as far as read). */
export const COMMAND_MAX_OUTPUT_BYTES = 4 * 1024 * 1024

export function runCommand(command: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: COMMAND_TIMEOUT_MS, maxBuffer: COMMAND_MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) return resolve({ status: 0, stdout, stderr })
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ENOENT') return resolve({ status: 'missing', stdout: '', stderr: '' })
        resolve({
          status: typeof code === 'number' ? code : 1,
          stdout,
          stderr: stderr || error.message,
        })
      },
    )
  })
}

export function systemEnv(): DoctorEnv {
  return {
    readFile(path) {
      try {
        return readFileSync(path, 'utf8')
      } catch {
        return undefined
      }
    },
    run: runCommand,
    openProbe: openTransportProbe,
    endianness: endianness(),
  }
}
