import { describe, expect, it } from 'vitest'
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
