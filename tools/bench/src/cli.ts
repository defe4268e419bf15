#!/usr/bin/env node
/**
 * shoal-bench: runs the scenarios, checks the targets, profiles what missed, prints the report and
 * writes results/latest.{json,svg,md} (plus timestamped copies; and reports/ with --report).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderChart } from './chart.js'
import { BenchContext } from './context.js'
import { ensureDdsperf } from './ddsperf.js'
import { describeEnvironment } from './environment.js'
import { idleProbe } from './interference.js'
import { type BenchNetwork, openBenchNetwork } from './network.js'
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js'
import { profileTargets, runProfiles } from './profiling.js'
import { renderReport } from './render.js'
import type { BenchResults } from './results.js'
import { runCodec } from './scenarios/codec.js'
import { runDds } from './scenarios/dds.js'
import { runImage } from './scenarios/image.js'
import { runLatency } from './scenarios/latency.js'
import { runNats } from './scenarios/nats.js'
import { runSmall } from './scenarios/small.js'
import { evaluateTargets } from './targets.js'

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const REPO_ROOT = resolve(PACKAGE_DIR, '../..')
const REPORT_DIR = join(PACKAGE_DIR, 'reports')

/** Pinning needs two CPUs and util-linux's taskset. */
function canPin(): boolean {
  return availableParallelism() >= 2 && spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0
}

function write(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true })
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content)
}

const README = join(PACKAGE_DIR, 'README.md')
const RESULTS_START = '<!-- results:start -->'
const RESULTS_END = '<!-- results:end -->'

/** Puts the tables of this run (no profiles: they are in reports/latest.md) between the README's markers. */
function updateReadme(results: BenchResults): void {
  const readme = readFileSync(README, 'utf8')
  const start = readme.indexOf(RESULTS_START)
  const end = readme.indexOf(RESULTS_END)
  if (start < 0 || end < start) {
    process.stderr.write(`shoal-bench: ${README} has no ${RESULTS_START} … ${RESULTS_END}; not updated\n`)
    return
  }
  const body = renderReport(results, {
    chartHref: 'reports/latest.svg',
    level: 3,
    title: false,
    profiles: false,
  })
  writeFileSync(README, `${readme.slice(0, start + RESULTS_START.length)}\n${body}\n${readme.slice(end)}`)
}

async function measure(options: BenchOptions, argv: string[]): Promise<BenchResults> {
  const started = new Date()
  const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19)
  const needsNetwork = options.only.some((s) => s !== 'codec')
  // Before anything is measured: a missing peer is installed (or reported) up front, not after minutes of runs.
  if (options.only.includes('dds')) ensureDdsperf((line) => process.stderr.write(`${line}\n`))
  let network: BenchNetwork | undefined
  if (needsNetwork) {
    try {
      network = await openBenchNetwork()
    } catch (error) {
      throw new Error(
        `cannot create the bench's private network namespace (needs root, ip and iptables; nothing is ever run outside it): ${(error as Error).message}`,
      )
    }
  }
  try {
    const ctx = new BenchContext(options, network?.host, join(options.out, 'profiles', stamp))
    ctx.log(
      `shoal-bench: ${options.only.join(', ')}; ${options.runs} run(s)${options.quick ? ', quick' : ''}` +
        `${network ? `; namespace ${network.ns} (lo only)` : ''}`,
    )
    const partial: Omit<BenchResults, 'targets' | 'profiles' | 'finishedAt' | 'durationS'> = {
      schema: 1,
      startedAt: started.toISOString(),
      argv,
      environment: describeEnvironment(REPO_ROOT, network?.ns),
      options,
    }
    partial.environment.othersCores.start = await idleProbe()
    for (const scenario of options.only) {
      if (scenario === 'small') partial.small = await runSmall(ctx)
      if (scenario === 'image') partial.image = await runImage(ctx)
      if (scenario === 'latency') partial.latency = await runLatency(ctx)
      if (scenario === 'dds') partial.dds = await runDds(ctx)
      if (scenario === 'codec') partial.codec = await runCodec(ctx)
      if (scenario === 'nats') partial.nats = await runNats(ctx)
    }
    const provisional = { ...partial, finishedAt: '', durationS: 0 }
    const targets = evaluateTargets(provisional)
    const profiles = await runProfiles(ctx, profileTargets(ctx, targets))
    for (const p of profiles) p.file = relative(REPO_ROOT, p.file)
    partial.environment.othersCores.end = await idleProbe()
    const finished = new Date()
    partial.environment.loadAverage.end = loadavg()
    return {
      ...partial,
      finishedAt: finished.toISOString(),
      durationS: (finished.getTime() - started.getTime()) / 1000,
      targets,
      profiles,
    }
  } finally {
    await network?.destroy()
  }
}

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions | 'help'
  try {
    options = parseOptions(argv, join(PACKAGE_DIR, 'results'))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`shoal-bench: ${error.message}\n`)
    return 2
  }
  if (options === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  options.out = resolve(options.out)
  if (options.pin && !canPin()) {
    process.stderr.write('shoal-bench: fewer than 2 CPUs or no taskset: sender and receiver are not pinned\n')
    options.pin = false
  }
  const shownArgv = argv[0] === '--' ? argv.slice(1) : argv
  let results: BenchResults
  try {
    results =
      options.render === undefined
        ? await measure(options, shownArgv)
        : rejudge(JSON.parse(readFileSync(resolve(options.render), 'utf8')) as BenchResults)
  } catch (error) {
    process.stderr.write(`shoal-bench: ${(error as Error).message}\n`)
    return 1
  }
  const json = `${JSON.stringify(results, null, 2)}\n`
  const svg = renderChart(results)
  const stamp = results.startedAt.replace(/[:.]/g, '-').slice(0, 19)
  // A re-render writes the report only: the saved run's files stay as they are.
  if (options.render === undefined)
    write(options.out, {
      'latest.json': json,
      [`${stamp}.json`]: json,
      'latest.svg': svg,
      [`${stamp}.svg`]: svg,
      'latest.md': renderReport(results, { chartHref: 'latest.svg' }),
    })
  if (options.report) {
    // No JSON here: the committed report is for reading (results/latest.json has every number).
    write(REPORT_DIR, { 'latest.svg': svg, 'latest.md': renderReport(results, { chartHref: 'latest.svg' }) })
    updateReadme(results)
  }
  process.stdout.write(`\n${renderReport(results)}\n`)
  const where =
    options.render === undefined
      ? [`${relative(process.cwd(), options.out) || '.'}/latest.{json,svg,md}`]
      : []
  if (options.report)
    where.push(`${relative(process.cwd(), REPORT_DIR)}/latest.{svg,md}`, relative(process.cwd(), README))
  if (where.length > 0) process.stdout.write(`Written: ${where.join(', ')}\n`)
  return 0
}

process.exitCode = await main(process.argv.slice(2))

/** A saved run judged again by this build's targets (their wording and rules may have changed). */
function rejudge(saved: BenchResults): BenchResults {
  return { ...saved, targets: evaluateTargets(saved) }
}
