#!/usr/bin/env node
// Runs every vitest project once and ends with one plain line: "tests: N passed, N failed, N skipped".
// The tests get a temp directory of their own (TMPDIR): a test that leaves a shoal-* folder in it
// fails the run, naming the folders, and the whole directory is removed at the end either way.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Folders of the tests' temp directory named in the failure message; the rest are counted. */
const MAX_LISTED_LEFTOVERS = 20

const dir = mkdtempSync(join(tmpdir(), 'shoal-test-'))
const report = join(dir, 'vitest.json')
const testTmp = join(dir, 'tmp')
mkdirSync(testTmp)
// As /tmp is: processes a test starts as another user (tcpdump drops root) can use it too.
chmodSync(dir, 0o755)
chmodSync(testTmp, 0o1777)
const run = spawnSync(
  'pnpm',
  [
    'exec',
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: { ...process.env, TMPDIR: testTmp } },
)
let code = run.status ?? 1
try {
  const r = JSON.parse(readFileSync(report, 'utf8'))
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`)
  if (r.numTotalTests === 0) {
    console.error('tests: no test ran')
    code = 1
  }
} catch {
  console.error('tests: vitest wrote no report')
  code = code || 1
}
const leftovers = readdirSync(testTmp).filter((name) => name.startsWith('shoal-'))
if (leftovers.length > 0) {
  const listed = leftovers.slice(0, MAX_LISTED_LEFTOVERS).join(', ')
  const more =
    leftovers.length > MAX_LISTED_LEFTOVERS ? ` and ${leftovers.length - MAX_LISTED_LEFTOVERS} more` : ''
  console.error(
    `tests: left ${leftovers.length} folders in the temp directory (${listed}${more}): remove them in afterAll/afterEach`,
  )
  code = code || 1
}
rmSync(dir, { recursive: true, force: true })
process.exit(code)
