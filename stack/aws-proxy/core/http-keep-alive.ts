/**
 * Keep-alive of the proxy's HTTP server: advertise a short idle time, keep idle connections much longer.
 *
 * A client pools a keep-alive socket and drops it after its own idle timeout; the server closes it
 * after its own. Whenever the server closes first, a client that sends on the pooled socket at that
 * moment gets `SocketError: other side closed` (undici, i.e. Node's fetch) or `ECONNRESET: socket
 * hang up` (node:http agents, i.e. the AWS SDK). A client whose event loop is busy makes that moment
 * long: its idle timer cannot fire and the server's FIN is not read, so its next request — sent in the
 * same tick the stall ends — goes out on a socket the server closed while the client was stalled.
 *
 * Node's defaults leave almost no room: the server advertises `Keep-Alive: timeout=5` and closes idle
 * sockets after 5 s (+1 s internal buffer in Node 20.20); undici drops them after 3 s (advertised
 * minus its 2 s threshold), and a node:http agent without a `timeout` option (the AWS SDK's) ignores
 * the hint and keeps them forever. So a fetch client stalled from before its 3 s mark until after
 * the 6 s close fails, and an SDK client stalled across the 6 s mark fails.
 *
 * The proxy therefore advertises 5 s (hint-honouring clients keep behaving as before) but closes idle
 * connections only after 65 s: a client stalled for up to a minute still finds its socket open.
 * (Clients that ignore the hint still meet the server's close, now after 65 s idle instead of 6 s.)
 * headersTimeout (60 s) and requestTimeout (300 s) keep Node's defaults: they bound receiving a
 * request and do not apply to idle connections.
 */
import type { Server, ServerResponse } from 'node:http';

/** What the server tells clients (`Keep-Alive: timeout=N`, seconds). */
export const ADVERTISED_KEEP_ALIVE_SECONDS = 5;
/** How long the server really keeps an idle connection (Node may add up to 1 s). */
export const IDLE_CONNECTION_TIMEOUT_MS = 65_000;

export function applyKeepAlive(server: Server): void {
  server.keepAliveTimeout = IDLE_CONNECTION_TIMEOUT_MS;
}

/**
 * Sets the advertised idle time on a response (before its headers are written). With `Connection`
 * set by us, Node does not add its own `Keep-Alive` header naming the real, longer timeout.
 */
export function advertiseKeepAlive(res: ServerResponse): void {
  if (!res.shouldKeepAlive) return; // HTTP/1.0 or `Connection: close`: Node closes after the response
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('Keep-Alive', `timeout=${ADVERTISED_KEEP_ALIVE_SECONDS}`);
}
