import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Imu } from '@shoal/schema'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpBase, receiverWithPublisher, requireBuild, WAIT_MS } from './support.js'

/** Debian's chromium (`./dev setup` installs it); never a downloaded browser. */
const CHROMIUM = '/usr/bin/chromium'
/** Where the screenshots go (gitignored); CI keeps them as artifacts. */
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))
/** A topic that would run script if the page ever put network strings in as markup. */
const HOSTILE_TOPIC = 'cam/<img src=x onerror="window.__pwned=1">'

const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (Debian: apt-get install chromium)`
if (missing !== undefined && process.env.CI === 'true')
  throw new Error(`the web view test needs chromium and CI=true forbids skipping it: ${missing}`)
if (missing !== undefined)
  process.stderr.write(`[web-view] skipping: ${missing} (set CI=true to make this an error)\n`)

beforeAll(requireBuild)

describe.skipIf(missing !== undefined)('shoal-recv --http: the web page in headless Chromium', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] })
  })
  afterAll(async () => {
    await browser?.close()
  })

  it('loads without a console error, shows the topics live, and is readable on a phone', async () => {
    const { rx, pub } = await receiverWithPublisher(['--http', '0', '--output', 'none'])
    let n = 0
    const publishing = setInterval(() => {
      n++
      void pub.publish('imu', Imu, { linearAcceleration: { z: n } })
      if (n % 4 === 0) void pub.publish(HOSTILE_TOPIC, Imu, { linearAcceleration: { z: n } })
    }, 50)
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    try {
      const base = await httpBase(rx)
      const page = await context.newPage()
      const problems: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
      })
      page.on('pageerror', (error) => problems.push(error.message))
      page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`))
      page.on('dialog', (dialog) => problems.push(`dialog: ${dialog.message()}`))

      const response = await page.goto(`${base}/`)
      expect(response?.status()).toBe(200)
      const topics = page.locator('#streams-body td:first-child')
      await expect.poll(() => topics.allTextContents(), { timeout: WAIT_MS }).toContain('imu')
      await expect.poll(() => topics.allTextContents(), { timeout: WAIT_MS }).toContain(HOSTILE_TOPIC)
      expect(await page.locator('#state').textContent()).toBe('live')

      // The frames of `imu` grow between two reads of the page.
      const imuFrames = async () => {
        const cells = await page
          .locator('#streams-body tr', { hasText: /^imu/ })
          .first()
          .locator('td')
          .allTextContents()
        return Number((cells[3] ?? '').replaceAll(',', ''))
      }
      const first = await imuFrames()
      await expect.poll(imuFrames, { timeout: WAIT_MS }).toBeGreaterThan(first)
      // Plots drawn from at least two summaries.
      await expect
        .poll(() => page.locator('#plot-rate polyline.in').getAttribute('points'), { timeout: WAIT_MS })
        .toMatch(/\d,[\d.]+ \d/)

      // The hostile topic stayed text: no element was made from it, no script ran.
      expect(await page.locator('img').count()).toBe(0)
      // (expressions as strings: this file is type-checked without the DOM library)
      expect(await page.evaluate('window.__pwned')).toBeUndefined()

      mkdirSync(ARTIFACTS, { recursive: true })
      await page.screenshot({ path: `${ARTIFACTS}web-view-laptop.png`, fullPage: true })

      // A phone: nothing wider than the screen (wide tables scroll inside their own box).
      await page.setViewportSize({ width: 390, height: 844 })
      await page.waitForTimeout(100)
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
      expect(overflow).toBeLessThanOrEqual(0)
      await page.screenshot({ path: `${ARTIFACTS}web-view-phone.png`, fullPage: true })

      expect(problems).toEqual([])
    } finally {
      clearInterval(publishing)
      await context.close()
      await pub.close()
      rx.child.kill('SIGTERM')
      await rx.exited
    }
  })
})
