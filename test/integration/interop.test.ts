// Interoperability with clients nobody here wrote: Mosquitto's own mosquitto_pub and mosquitto_sub.
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { sharedBed } from '../support/bed.js'
import { missing, noMosquitto } from '../support/binaries.js'
import { next, uniquePrefix } from '../support/wait.js'

const run = promisify(execFile)

describe.skipIf(noMosquitto() || missing('mosquitto_pub', 'apt-get install mosquitto-clients'))('interoperability with mosquitto_pub and mosquitto_sub', () => {
  const bed = sharedBed('interop')
  const pool = bed.pool
  const port = () => String(bed.broker.ports[1883])

  it.each(['mqttv311', 'mqttv5'])('a message from mosquitto_pub (%s) reaches an observer', async (version) => {
    const p = uniquePrefix('from-pub')
    const client = await pool.connected(bed.broker.tcpUrl)
    const received = next(client.observe<{ celsius: number }>(`${p}/+/temp`, { codec: 'json', qos: 1 }), 'the mosquitto_pub message')
    await bed.broker.waitForSubscription(client.clientId, `${p}/+/temp`, 1)
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port(), '-V', version, '-q', '1', '-t', `${p}/kitchen/temp`, '-m', '{"celsius":21.5}'])
    const message = await received
    expect(message).toMatchObject({ topic: `${p}/kitchen/temp`, payload: { celsius: 21.5 }, qos: 1, params: ['kitchen'] })
  })

  it('what the SDK publishes is read correctly by mosquitto_sub', async () => {
    const p = uniquePrefix('to-sub')
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port(), '-V', 'mqttv5', '-q', '1', '-C', '3', '-v', '-i', `sub-${process.pid}`, '-t', `${p}/#`])
    let out = ''
    sub.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => sub.once('exit', resolve))
    try {
      await bed.broker.waitForLog(new RegExp(`sub-${process.pid} 1 ${p}/#$`, 'm'))
      const client = await pool.connected(bed.broker.tcpUrl)
      await client.publish(`${p}/json`, { celsius: 21.5, ok: true }, { qos: 1 })
      await client.publish(`${p}/text`, 'grüße', { qos: 1 })
      await client.publish(`${p}/bytes`, new Uint8Array([104, 105]), { qos: 2 })
      expect(await exited).toBe(0)
      expect(out.split('\n').filter(Boolean)).toEqual([`${p}/json {"celsius":21.5,"ok":true}`, `${p}/text grüße`, `${p}/bytes hi`])
    } finally {
      sub.kill()
    }
  })
})
