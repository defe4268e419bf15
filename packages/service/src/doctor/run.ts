/** Runs every check of every target in order and prints one line per check. */
import { checkRecvBuffer } from './buffer.js'
import { checkFirewall } from './firewall.js'
import { checkInterface, checkMtu } from './interface.js'
import { checkJoin } from './join.js'
import { checkRoute } from './route.js'
import { SELF_TEST_TIMEOUT_MS, selfTestCheck } from './self-test.js'
import type { DoctorCheck, DoctorEnv, DoctorTarget } from './types.js'

/** The checks of one target, in the order they print. */
export async function checkTarget(target: DoctorTarget, env: DoctorEnv): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [
    checkInterface(target, env),
    checkMtu(target, env),
    await checkRoute(target, env),
    checkRecvBuffer(target, env),
    await checkFirewall(target, env),
  ]
  if (target.mode !== 'multicast' || target.address === undefined) {
    checks.push({
      name: 'self-test',
      ok: true,
      skipped: true,
      detail: `not run for ${target.mode}: it sends to a group`,
    })
    return checks
  }
  let probe: Awaited<ReturnType<DoctorEnv['openProbe']>>
  try {
    probe = await env.openProbe(target)
  } catch (error) {
    checks.push(checkJoin(target, env, false), selfTestCheck(target, { error }))
    return checks
  }
  try {
    // The join is listed while the subscriber holds it: read before the round trip and the close.
    checks.push(checkJoin(target, env, true))
    const received = await probe.roundTrip(SELF_TEST_TIMEOUT_MS)
    checks.push(selfTestCheck(target, { received }))
  } catch (error) {
    checks.push(selfTestCheck(target, { error }))
  } finally {
    await probe.close()
  }
  return checks
}

/** `ok    …`, `FAIL  … → fix: …`, `skip  …`. */
export function formatCheck(check: DoctorCheck): string {
  if (check.skipped === true) return `skip  ${check.name}: ${check.detail}`
  if (check.ok) return `ok    ${check.detail}`
  return `FAIL  ${check.name}: ${check.detail}${check.fix === undefined ? '' : ` → fix: ${check.fix}`}`
}

/**
 * Checks every target, writing a line per check (and a heading per labelled target), then a
 * closing line. Resolves with the exit code: 0 when no check failed, 1 otherwise.
 */
export async function runDoctor(
  targets: readonly DoctorTarget[],
  env: DoctorEnv,
  write: (line: string) => void,
): Promise<number> {
  let failed = 0
  let total = 0
  for (const target of targets) {
    if (target.label !== undefined) write(`${target.label}:`)
    for (const check of await checkTarget(target, env)) {
      total++
      if (!check.ok) failed++
      write(`${target.label === undefined ? '' : '  '}${formatCheck(check)}`)
    }
  }
  write(failed === 0 ? `all ${total} checks passed` : `${failed} of ${total} checks failed`)
  return failed === 0 ? 0 : 1
}
