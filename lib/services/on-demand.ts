/**
 * The services a client loads the first time one is used: `request()`, `serve()`, `route()` and `iterate()`. One dynamic
 * `import()` of this file, which a bundler splits into a chunk of its own, so that a dashboard that only
 * observes and publishes ships none of them. They import nothing of the client's code at run time: what
 * they use of it comes as the kit each call is given (lib/services/services-kit.ts).
 *
 * @example
 * ```ts
 * const { serveRequests } = await import('./on-demand.js')
 * serveRequests(servicesKit, client, client.observe('rpc/ping'), () => 'pong', 1)
 * ```
 */
export { Requester } from './requester.js'
export { serveRequests } from './serve.js'
export { observeRoute } from './observe-route.js'
export { decodedReply } from './decoded-reply.js'
export { MessageIterator } from './iterate-messages.js'
