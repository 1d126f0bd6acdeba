import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { CASES, type CaseResult, type Row } from '../../bench/cases.js'
import { noMosquitto } from '../support/binaries.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

// The bench once with tiny counts, so it keeps working. Its numbers mean nothing at this scale and on a
// shared CI machine: nothing here asserts a timing or a budget, only that every case ran and reported.
describe.skipIf(noMosquitto())('npm run bench (smoke, --quick)', () => {
  let dir: string | undefined
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('runs every case against the SDK and raw MQTT.js and writes a well-formed JSON result', async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-bench-'))
    const out = join(dir, 'result.json')
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', `--out=${out}`], {
      cwd: root,
      timeout: 150_000,
      maxBuffer: 10 * 1024 * 1024,
    })
    expect(stdout).toMatch(/\| case +\| measure +\| SDK +\| raw MQTT\.js +\| SDK\/raw +\| budget +\| result +\|/)

    const result = JSON.parse(await readFile(out, 'utf8')) as { cases: CaseResult[]; rows: Row[]; failures: string[]; config: { quick: boolean } }
    expect(result.failures).toEqual([])
    expect(result.config.quick).toBe(true)
    expect(result.cases.map((c) => c.id)).toEqual(CASES.map((c) => c.id))
    for (const benchCase of result.cases) {
      expect(benchCase.rows.length, benchCase.id).toBeGreaterThan(0)
      expect(benchCase.rows.some((r) => r.budget !== undefined), `${benchCase.id} has a budgeted row`).toBe(true)
    }
    for (const row of result.rows) {
      const what = `${row.case}: ${row.measure}`
      expect(Number.isFinite(row.sdk), what).toBe(true)
      if (row.raw !== undefined && row.raw !== null) expect(Number.isFinite(row.raw), what).toBe(true)
      if (row.budget !== undefined) expect(typeof row.pass, what).toBe('boolean')
    }
    // Throughput cases received every message (the broker's queues are raised so nothing is dropped).
    expect(result.rows.filter((r) => r.measure.includes('lost'))).toEqual([])
  }, 180_000)
})
