/**
 * Nagle's algorithm off on every TCP and TLS socket MQTT.js opens: with it on, a small packet waits for the
 * acknowledgement of the previous one, and the peer's delayed ACK holds that back by up to 40 ms (measured: a
 * p50 of 21 ms at a paced 10,000 messages/s). MQTT.js does not set it; the `ws` package does for WebSockets, and
 * browsers' streams have no such switch.
 */
export function noDelayOnStreamsOf(client: object): void {
  const internals = client as { streamBuilder?: (client: unknown) => unknown }
  const build = internals.streamBuilder
  if (typeof build !== 'function') return
  internals.streamBuilder = (mqttClient) => {
    const stream = build(mqttClient) as { setNoDelay?: (noDelay: boolean) => unknown } | undefined
    if (typeof stream?.setNoDelay === 'function') stream.setNoDelay(true)
    return stream
  }
}
