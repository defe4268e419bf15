#!/usr/bin/env node
// Runs every vitest project once and ends with one plain line: "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'shoal-test-'))
const report = join(dir, 'vitest.json')
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
  { stdio: 'inherit' },
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
rmSync(dir, { recursive: true, force: true })
process.exit(code)
