// mosquitto/rebuild_image.sh's control flow with a stand-in `docker` that records its calls: the order of the
// steps and what happens when the container does not stay up. docker-rebuild.test.ts runs it against the engine.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kitDir } from '../support/mosquitto.js'

const run = promisify(execFile)

describe('mosquitto/rebuild_image.sh control flow (with a stand-in docker; docker-rebuild.test.ts runs it against the engine)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-rebuild-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Runs the script with a fake `docker` that logs its calls and reports the container as `state`. */
  async function rebuild(state: string): Promise<{ code: number; calls: string; stderr: string }> {
    const bin = join(dir, `bin-${state.replace(' ', '-')}`)
    await run('mkdir', ['-p', bin])
    await writeFile(
      join(bin, 'docker'),
      [
        '#!/usr/bin/env bash',
        `echo "$*" >> "${bin}/calls"`,
        'case "$*" in',
        '  "compose ps -q mosquitto") echo 0123abcd ;;',
        `  inspect*) echo "${state}" ;;`,
        '  "compose logs"*) echo "Error: Unable to open pwfile" ;;',
        'esac',
        'exit 0',
        '',
      ].join('\n'),
    )
    await chmod(join(bin, 'docker'), 0o755)
    // A copy of the script, so that its `mkdir -p data log` happens in the temporary folder.
    await copyFile(join(kitDir, 'rebuild_image.sh'), join(bin, 'rebuild_image.sh'))
    await chmod(join(bin, 'rebuild_image.sh'), 0o755)
    return new Promise((resolve) => {
      execFile(join(bin, 'rebuild_image.sh'), [], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, STARTUP_SECONDS: '1' } }, (error, _stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, calls: readFileSync(join(bin, 'calls'), 'utf8'), stderr })
      })
    })
  }

  it('pulls, takes the stack down, starts it again and checks that it keeps running', async () => {
    const { code, calls } = await rebuild('running 0')
    expect(code).toBe(0)
    expect(calls).toMatch(/compose config --quiet\ncompose config --images\ncompose pull mosquitto\ncompose down --remove-orphans\ncompose up -d --force-recreate\n/)
  })

  it('shows the log, stops the container and fails when mosquitto keeps restarting', async () => {
    const { code, stderr, calls } = await rebuild('restarting 3')
    expect(code).toBe(1)
    expect(stderr).toMatch(/not running \(state: restarting 3\)/)
    expect(stderr).toContain('Error: Unable to open pwfile')
    expect(calls).toMatch(/compose logs --no-color --tail 50 mosquitto\ncompose stop mosquitto\n$/)
  })
})
