import type { Server } from 'node:http'

/**
 * Closes an HTTP server that browsers have loaded pages from. close() alone waits for every socket to end, and
 * Chromium keeps some open (a preconnect, a kept-alive request): a test's clean-up once waited 46 s for one.
 * The pages are done with by then, so their sockets are closed too.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((closed) => {
    server.close(() => closed())
    server.closeAllConnections()
  })
}
