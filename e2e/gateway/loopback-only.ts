/**
 * Preloaded (`node --import`) into upstream servers from npm that listen on every interface with
 * no way to choose (server-everything's Streamable HTTP entry calls `app.listen(PORT)`): a listen
 * without a host binds 127.0.0.1 instead, so tests never open a port beyond loopback. Once
 * listening, it prints `loopback-only: listening on <port>` to stderr, so `PORT=0` works too.
 */
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const [first, second] = args;
  const portOnly = (typeof first === 'number' || typeof first === 'string') && typeof second !== 'string';
  if (portOnly) {
    args.splice(1, 0, '127.0.0.1');
    this.once('listening', () => {
      const address = this.address();
      if (address && typeof address === 'object')
        process.stderr.write(`loopback-only: listening on ${address.port}\n`);
    });
  }
  return listen.apply(this, args as Parameters<typeof listen>);
} as typeof listen;
