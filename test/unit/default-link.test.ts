// Which link a client runs on: the lean link by default on both platforms, MQTT.js when the option or (Node)
// IOTPUBSUB_LINK asks, and a clear error for anything else. The clients point at a closed port and are ended
// at once; only the link they were given is looked at.
import { afterEach, describe, expect, it } from 'vitest'
import { connect as connectInBrowser } from '../../lib/browser.js'
import { LeanLink } from '../../lib/link/lean/lean-link.js'
import { MqttJsLink } from '../../lib/link/mqttjs/mqttjs-link.js'
import { connect, UnsupportedOptionError, type MQTTClient } from '../../lib/node.js'

const linkOf = (client: MQTTClient): unknown => (client as unknown as { link: unknown }).link

describe('the link a client runs on', () => {
  const saved = process.env.IOTPUBSUB_LINK
  const clients: MQTTClient[] = []
  afterEach(async () => {
    if (saved === undefined) delete process.env.IOTPUBSUB_LINK
    else process.env.IOTPUBSUB_LINK = saved
    await Promise.all(clients.splice(0).map((c) => c.end({ force: true })))
  })
  const made = (client: MQTTClient): MQTTClient => (clients.push(client), client)

  it('Node: the lean link when neither the option nor IOTPUBSUB_LINK says', () => {
    delete process.env.IOTPUBSUB_LINK
    expect(linkOf(made(connect('mqtt://127.0.0.1:1', { reconnect: false })))).toBeInstanceOf(LeanLink)
  })

  it('Node: IOTPUBSUB_LINK=mqttjs goes back to MQTT.js, and the option wins over it', () => {
    process.env.IOTPUBSUB_LINK = 'mqttjs'
    expect(linkOf(made(connect('mqtt://127.0.0.1:1', { reconnect: false })))).toBeInstanceOf(MqttJsLink)
    expect(linkOf(made(connect('mqtt://127.0.0.1:1', { reconnect: false, link: 'lean' })))).toBeInstanceOf(LeanLink)
  })

  it('Node: an IOTPUBSUB_LINK that names no link throws UnsupportedOptionError naming the variable', () => {
    process.env.IOTPUBSUB_LINK = 'paho'
    expect(() => made(connect('mqtt://127.0.0.1:1', { reconnect: false }))).toThrow(UnsupportedOptionError)
    expect(() => made(connect('mqtt://127.0.0.1:1', { reconnect: false }))).toThrow(/IOTPUBSUB_LINK must be 'lean' or 'mqttjs', not "paho"/)
  })

  it('browser entry: the lean link whatever the environment says (a browser has none)', () => {
    process.env.IOTPUBSUB_LINK = 'mqttjs'
    expect(linkOf(made(connectInBrowser('ws://127.0.0.1:1/', { reconnect: false, pageLifecycle: false })))).toBeInstanceOf(LeanLink)
  })
})
