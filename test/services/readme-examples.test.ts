// The Node-service examples of docs/guide/node-services.md (once the README's), run as they are printed: the
// page is checked to contain each example below word for word (between the `example:` markers), so the two
// cannot drift apart.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acknowledge, connect, json, type MQTTClient, route } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { Mosquitto } from '../support/mosquitto.js'
import { waitFor } from '../support/wait.js'

const page = readFileSync(new URL('../../docs/guide/node-services.md', import.meta.url), 'utf8')
const source = readFileSync(new URL(import.meta.url), 'utf8')

/** The lines between `// example: NAME` and `// end of example`, without their common indentation. */
function example(name: string): string {
  const start = source.indexOf(`// example: ${name}\n`)
  const end = source.indexOf('// end of example', start)
  const lines = source.slice(source.indexOf('\n', start) + 1, end).split('\n').slice(0, -1)
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length))
  return lines.map((l) => l.slice(indent)).join('\n')
}

interface Telemetry {
  celsius: number
}
const db = { rows: [] as Telemetry[], async insert(row: Telemetry) { this.rows.push(row) } }

describe.skipIf(noMosquitto())('the Node services guide\'s examples', () => {
  let broker: Mosquitto
  let url: string
  const clients: MQTTClient[] = []
  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    url = broker.tcpUrl
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end({ force: true })))
    await broker?.dispose()
  })

  it.each(['acknowledge', 'serve', 'request', 'routes'])('docs/guide/node-services.md shows the %s example as tested here', (name) => {
    expect(page).toContain(example(name))
  })

  it('acknowledge', async () => {
    // example: acknowledge
    const ingest = connect(url, { clientId: 'ingest-1', clean: false })
    ingest
      .observe<Telemetry>('devices/+/telemetry', { qos: 1, ack: 'manual', codec: 'json' })
      .pipe(acknowledge((m) => db.insert(m.payload)))
      .subscribe()
    // end of example
    clients.push(ingest)
    await broker.waitForSubscription('ingest-1', 'devices/+/telemetry', 1)
    await ingest.publish('devices/d1/telemetry', { celsius: 21.5 }, { qos: 1 })
    await waitFor(() => db.rows.length === 1, 'the insert')
    expect(db.rows).toEqual([{ celsius: 21.5 }])
  })

  it('request', async () => {
    // example: serve
    const device = connect(url, { clientId: 'device-d1' })
    device.serve<{ delay: number }>('devices/d1/rpc/reboot', async (request) => {
      if (request.payload.delay > 60) throw new RangeError('delay too long')
      return { rebootingIn: request.payload.delay }
    }, { codec: 'json' })
    // end of example
    clients.push(device)
    await broker.waitForSubscription('device-d1', 'devices/d1/rpc/reboot', 1)
    // example: request
    const service = connect(url, { clientId: 'fleet-service' })
    const reply = await service.request<{ rebootingIn: number }>('devices/d1/rpc/reboot', { delay: 5 }, { codec: 'json', timeout: 2_000 })
    console.log(reply.payload.rebootingIn) // 5
    // end of example
    clients.push(service)
    expect(reply.payload).toEqual({ rebootingIn: 5 })
  })

  it('routes', async () => {
    const seen: string[] = []
    const chart = (deviceId: string, sensor: string, value: number) => seen.push(`${deviceId}/${sensor}=${value}`)
    // example: routes
    const telemetry = route('devices/{deviceId}/telemetry/{sensor}')
    const dashboard = connect(url, { clientId: 'dashboard' })
    dashboard
      .route(telemetry, { codec: json<{ value: number }>() })
      .subscribe((m) => chart(m.params.deviceId, m.params.sensor, m.payload.value))
    await dashboard.publish(telemetry.topic({ deviceId: 'd1', sensor: 'temp' }), { value: 21.5 })
    // end of example
    clients.push(dashboard)
    await waitFor(() => seen.length === 1, 'the routed message')
    expect(seen).toEqual(['d1/temp=21.5'])
  })
})
