// The properties object of a publish, changed by the app after publish() (a common pattern: one `properties`
// object, updated per message): the publish keeps the copy checked when publish() was called, so that what is sent
// later (from the offline queue, after a reconnect) is what was checked. The standard: "validate where the user
// hands data over, once"; "every promise settles"; nothing may throw out of a callback.
import { describe, expect, it } from 'vitest'
import type { Status } from '../../../lib/node.js'
import { testBed } from '../../support/bed.js'
import { noMosquitto } from '../../support/binaries.js'
import { outcome, waitForStatus } from '../../support/clients.js'
import { escapes } from '../../support/escapes.js'
import { rawClient } from '../../support/raw.js'
import { uniquePrefix, waitFor } from '../../support/wait.js'

describe.skipIf(noMosquitto())('input: properties changed after publish()', () => {
  const bed = testBed('input-mut')
  const { thrown } = escapes()

  const cases: Array<[string, (props: Record<string, any>) => void]> = [
    ['userProperties: a pair pushed with a number value', (props) => props.userProperties.push(['late', 5])],
    ['contentType set to a string with NUL', (props) => { props.contentType = 'text/\u0000' }],
    ['responseTopic set to a wildcard', (props) => { props.responseTopic = 'a/+/#' }],
  ]
  for (const [name, mutate] of cases) {
    it(`${name}: what is sent is what was checked (or the publish is refused), the connection stays up`, async () => {
      const broker = await bed.broker()
      const p = uniquePrefix('input-mut')
      const raw = await rawClient(broker.tcpUrl, { protocolVersion: 5 })
      try {
        const got: { topic: string; properties: unknown }[] = []
        raw.on('message', (topic, _b, packet) => got.push({ topic, properties: packet.properties }))
        await raw.subscribeAsync(`${p}/#`, { qos: 1 })
        // Published while the first connection is still being made: held until CONNACK, encoded then.
        const client = bed.pool.connect(broker.tcpUrl, { protocolVersion: 5 })
        const statuses: Status[] = []
        client.status$.subscribe((s) => statuses.push(s))
        const props: Record<string, any> = { userProperties: [['k', 'v']], contentType: 'text/plain', responseTopic: `${p}/reply` }
        const sent = outcome(client.publish(`${p}/m`, 'x', { qos: 1, properties: props, timeout: 3_000 }))
        mutate(props)
        const result = await sent
        await waitForStatus(client, 'connected')
        await client.publish(`${p}/after`, 'y', { qos: 1, timeout: 8_000 })
        await waitFor(() => got.some((m) => m.topic === `${p}/after`), 'after', 8_000)
        const m = got.find((x) => x.topic === `${p}/m`)
        console.log(name, '→', result, JSON.stringify(m?.properties), statuses.map((s) => s.type + ('error' in s && s.error ? `(${s.error.name}: ${s.error.message.slice(0, 120)})` : '')).join(' → '), thrown.map(String))
        expect(thrown).toEqual([])
        expect(statuses.map((s) => s.type)).toEqual(['connecting', 'connected'])
        if (result === 'resolved') {
          expect(m?.properties).toMatchObject({ contentType: 'text/plain', responseTopic: `${p}/reply`, userProperties: { k: 'v' } })
        } else {
          expect(result).toMatch(/^(UnsupportedOptionError|PublishError)$/)
        }
      } finally {
        raw.end(true)
      }
    })
  }
})
