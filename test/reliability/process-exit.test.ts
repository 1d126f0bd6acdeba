// After end() (or a client that ended itself), a Node process must be able to exit: no timer or socket left
// behind by the SDK (docs/guide/client.md "Ending": end() settles everything, also while a credentials provider
// has not answered). Each scenario runs in a child process (test/support/process-exit-child.ts) with connectTimeout
// 120 s and backoff 120 s, so a leaked SDK timer keeps the child alive for two minutes; the child must exit on its
// own within 15 s.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { linkUnderTest } from '../support/link-under-test.js'

const CHILD = new URL('../support/process-exit-child.ts', import.meta.url).pathname

async function run(scenario: string, url = ''): Promise<{ exited: boolean; code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, scenario, linkUnderTest(), url], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  let exited = true
  const guard = setTimeout(() => {
    exited = false
    child.kill('SIGKILL')
  }, 15_000)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  clearTimeout(guard)
  return { exited, code, out }
}

function active(out: string): string[] {
  const line = out.split('\n').find((l) => l.startsWith('ACTIVE '))
  return line ? (JSON.parse(line.slice('ACTIVE '.length)) as string[]) : ['(no ACTIVE line)']
}

describe('a Node process can exit after the client ends', () => {
  const bed = testBed('lifecycle-exit')

  it('end() while the credentials provider has not answered: no timer left, the process exits', async () => {
    const { exited, code, out } = await run('provider-pending')
    expect(out).toContain('ENDED connecting,closed')
    expect(active(out).filter((r) => r === 'Timeout')).toEqual([])
    expect(exited).toBe(true)
    expect(code).toBe(0)
  }, 30_000)

  it('end() while the broker withholds the CONNACK: no timer left, the process exits', async () => {
    const { exited, code, out } = await run('withheld-connack')
    expect(out).toContain('ENDED connecting,closed')
    expect(active(out).filter((r) => r === 'Timeout')).toEqual([])
    expect(exited).toBe(true)
    expect(code).toBe(0)
  }, 30_000)

  it('end() during a backoff wait: no timer left, the process exits', async () => {
    const { exited, code, out } = await run('backoff-wait')
    expect(out).toContain('ENDED connecting,reconnecting,closed')
    expect(active(out).filter((r) => r === 'Timeout')).toEqual([])
    expect(exited).toBe(true)
    expect(code).toBe(0)
  }, 30_000)

  it('reconnect: false and the broker drops the connection: the client ends, its promises settle, the process exits', async () => {
    const { exited, code, out } = await run('reconnect-false-drop')
    expect(out).toContain('ENDED connecting,connected,closed publish=ConnectionLostError connected=resolved connections=1')
    expect(active(out).filter((r) => r === 'Timeout')).toEqual([])
    expect(exited).toBe(true)
    expect(code).toBe(0)
  }, 30_000)

  for (const [scenario, what] of [
    ['refused-open', 'a fatal refusal (CONNACK 5) on a socket the broker leaves open'],
    ['refused-closed', 'a fatal refusal (CONNACK 5) on a socket the broker closes at once'],
    ['timeout-no-reconnect', 'connectTimeout with reconnect: false'],
    ['provider-late-answer', 'end() while the provider is pending, which answers after end()'],
  ] as const) {
    it(`${what}: the client ends, no timer left, the process exits`, async () => {
      const { exited, code, out } = await run(scenario)
      expect(out).toContain('ENDED connecting,closed')
      expect(active(out).filter((r) => r === 'Timeout')).toEqual([])
      expect(exited).toBe(true)
      expect(code).toBe(0)
    }, 30_000)
  }

  it.skipIf(noMosquitto())('end() on a connected client after a QoS 1 publish: the process exits', async () => {
    const broker = await bed.broker()
    const { exited, code, out } = await run('connected', broker.tcpUrl)
    expect(out).toContain('ENDED connecting,connected,closed')
    expect(active(out).filter((r) => r === 'Timeout')).toEqual([])
    expect(exited).toBe(true)
    expect(code).toBe(0)
  }, 30_000)
})
