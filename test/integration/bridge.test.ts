// The README's Mosquitto bridge example (mosquitto/bridge-example.conf), run between two real brokers.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { kitDir, Mosquitto } from '../support/mosquitto.js'
import { next } from '../support/wait.js'

describe.skipIf(noMosquitto())('Mosquitto bridge between two sites', () => {
  let centre: Mosquitto
  let site: Mosquitto
  const pool = new ClientPool('bridge')
  beforeAll(async () => {
    centre = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    const example = await readFile(join(kitDir, 'bridge-example.conf'), 'utf8')
    const bridge = example
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'))
      .map((line) => line.replace('central.example.net:1883', `127.0.0.1:${centre.ports[1883]}`))
    site = await Mosquitto.start({ persistence: false, extra: ['log_type all', ...bridge] })
    // The bridge is up once it has subscribed at the centre for the commands.
    await centre.waitForLog(/site-to-centre 1 sites\/site-a\/cmd\/#$/m)
  })
  afterAll(async () => {
    await pool.endAll()
    await site?.dispose()
    await centre?.dispose()
  })

  it('telemetry goes up, commands come down, other topics stay local', async () => {
    const atSite = await pool.connected(site.tcpUrl)
    const atCentre = await pool.connected(centre.tcpUrl)
    const up = next(atCentre.observe('sites/site-a/#', { codec: 'text', qos: 1 }), 'data at the centre')
    const down = next(atSite.observe('sites/site-a/cmd/#', { codec: 'text', qos: 1 }), 'a command at the site')
    const local: string[] = []
    atCentre.observe('local/#', { codec: 'text' }).subscribe((m) => local.push(m.payload))
    await centre.waitForSubscription(atCentre.clientId, `sites/site-a/#`, 1)
    await centre.waitForSubscription(atCentre.clientId, `local/#`, 0)
    await site.waitForSubscription(atSite.clientId, `sites/site-a/cmd/#`, 1)
    await atSite.publish('local/x', 'stays here', { qos: 1 })
    await atSite.publish('sites/site-a/data/temp', '21.5', { qos: 1 })
    expect((await up).payload).toBe('21.5')
    await atCentre.publish('sites/site-a/cmd/blink', 'now', { qos: 1 })
    expect((await down).payload).toBe('now')
    expect(local).toEqual([])
  })
})
