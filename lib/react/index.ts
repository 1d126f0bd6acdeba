/**
 * iotpubsub/react: React hooks over an iotpubsub client, built on `useSyncExternalStore` (React 18 and 19).
 * They use the public `MQTTClient` interface only; this entry imports nothing from the SDK at run time.
 *
 * @example
 * ```tsx
 * import { MqttProvider, useStatus, useTopic } from 'iotpubsub/react'
 *
 * function Kitchen() {
 *   const status = useStatus()
 *   const temp = useTopic<{ celsius: number }>('rooms/kitchen/temp', { codec: 'json' })
 *   return <p>{status.type}: {temp?.payload.celsius ?? '…'} °C</p>
 * }
 * ```
 */
export { MqttProvider, useClient, type MqttProviderProps } from './provider.js'
export { useTopic, useMessages, useStatus, type TopicOptions, type MessagesOptions } from './hooks.js'
export type { Throttle } from '../bindings/coalesced.js'
