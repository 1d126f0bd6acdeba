import { describe, expect, it, vi } from 'vitest'
import { connect as connectInBrowser, MQTTClient as BrowserClient } from '../../lib/browser.js'
import { UnsupportedOptionError } from '../../lib/errors.js'
import { browserPlatform, endpoints, nodePlatform, type Platform } from '../../lib/options/endpoints.js'
import type { MQTTClientOptions } from '../../lib/options/client-options.js'

const brokerUrls = (options: MQTTClientOptions, platform: Platform): string[] => endpoints(options, platform).map((e) => e.url)

const brokerUrl = (options: Parameters<typeof brokerUrls>[0], platform: Parameters<typeof brokerUrls>[1]): string | undefined => brokerUrls(options, platform)[0]

describe('platform entries', () => {
  it('the browser entry refuses mqtt:// and mqtts://, naming ws:// and wss://', () => {
    for (const url of ['mqtt://localhost:1883', 'mqtts://localhost:8883']) {
      expect(() => connectInBrowser(url)).toThrow(UnsupportedOptionError)
      expect(() => connectInBrowser(url)).toThrow(/ws:\/\/ or wss:\/\//)
    }
  })

  it('the browser entry refuses client certificates: wss:// uses the browser trust store', () => {
    expect(() => new BrowserClient({ url: 'wss://broker.example:443', cert: 'PEM', key: 'PEM' })).toThrow(/certificate store/)
  })

  it('Node accepts mqtt, mqtts, ws and wss', () => {
    for (const url of ['mqtt://h:1883', 'mqtts://h:8883', 'ws://h:9001', 'wss://h/mqtt']) {
      expect(brokerUrl({ url }, nodePlatform)).toBe(url)
    }
    expect(() => brokerUrl({ url: 'http://h' }, nodePlatform)).toThrow(UnsupportedOptionError)
    expect(() => brokerUrl({ url: 'not a url' }, nodePlatform)).toThrow(/Not a URL/)
  })

  it('builds the URL from the Python-style brokerIp/brokerPort options', () => {
    expect(brokerUrl({ brokerIp: '192.168.1.103', brokerPort: 1883 }, nodePlatform)).toBe('mqtt://192.168.1.103:1883')
    expect(brokerUrl({ brokerIp: '192.168.1.103' }, browserPlatform)).toBe('ws://192.168.1.103:9001/')
    expect(brokerUrl({ brokerIp: '::1', brokerPort: 8883, protocol: 'mqtts' }, nodePlatform)).toBe('mqtts://[::1]:8883')
    expect(brokerUrl({ brokerIp: 'b', protocol: 'wss', path: '/mqtt' }, nodePlatform)).toBe('wss://b:443/mqtt')
    expect(() => brokerUrl({}, nodePlatform)).toThrow(/brokerIp/)
  })

  it('takes a list of cluster nodes, each checked', () => {
    expect(brokerUrls({ url: ['mqtt://a:1883', 'ws://b:9001/mqtt'] }, nodePlatform)).toEqual(['mqtt://a:1883', 'ws://b:9001/mqtt'])
    expect(() => brokerUrls({ url: ['ws://a:9001', 'mqtt://b:1883'] }, browserPlatform)).toThrow(UnsupportedOptionError)
    expect(() => brokerUrls({ url: [] }, nodePlatform)).toThrow(/empty/)
  })

  it('does not modify the options it is given', () => {
    const options = Object.freeze({ url: 'ws://127.0.0.1:1', clientId: 'frozen', reconnect: Object.freeze({ initialDelay: 10 }) })
    const client = new BrowserClient(options)
    expect(client.clientId).toBe('frozen')
    return client.end()
  })
})

describe('a page served over https: and ws:// (mixed content)', () => {
  const onHttpsPage: Platform = { ...browserPlatform, pageProtocol: () => 'https:' }
  const mixed = (url: string) =>
    `${JSON.stringify(url)}: this page is served over https:, and browsers refuse ws:// from it (mixed content): use wss:// (a TLS websockets listener, or a TLS proxy in front of the broker)`

  it('refuses ws:// at connect(), naming the URL and wss://', () => {
    expect(() => endpoints({ url: 'ws://broker.example:9001/mqtt' }, onHttpsPage)).toThrow(UnsupportedOptionError)
    expect(() => endpoints({ url: 'ws://broker.example:9001/mqtt' }, onHttpsPage)).toThrow(mixed('ws://broker.example:9001/mqtt'))
    expect(() => endpoints({ url: ['wss://a/mqtt', 'ws://b:9001'] }, onHttpsPage)).toThrow(mixed('ws://b:9001'))
    expect(() => endpoints({ brokerIp: '10.0.0.5' }, onHttpsPage)).toThrow(mixed('ws://10.0.0.5:9001/'))
  })

  it('lets through what browsers allow: wss://, loopback over ws:// (potentially trustworthy), any ws:// from http:', () => {
    for (const url of ['wss://broker.example/mqtt', 'ws://localhost:9001', 'ws://app.localhost:9001', 'ws://127.0.0.1:9001', 'ws://127.1.2.3', 'ws://[::1]:9001']) {
      expect(brokerUrl({ url }, onHttpsPage)).toBe(url)
    }
    expect(brokerUrl({ url: 'ws://broker.example:9001' }, { ...browserPlatform, pageProtocol: () => 'http:' })).toBe('ws://broker.example:9001')
  })

  it('the browser entry reads the page location when a client is made (none in Node)', () => {
    expect(browserPlatform.pageProtocol?.()).toBeUndefined()
    vi.stubGlobal('location', { protocol: 'https:' })
    try {
      expect(() => connectInBrowser('ws://broker.example:9001')).toThrow(mixed('ws://broker.example:9001'))
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('Node has no page: ws:// is never refused there', () => {
    expect(nodePlatform.pageProtocol).toBeUndefined()
  })
})
