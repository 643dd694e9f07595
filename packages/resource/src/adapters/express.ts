import { errorResponse, payloadTooLarge } from '@gatehouse/core';
import type { Request as ExpressRequest, Response as ExpressResponse, NextFunction } from 'express';
import type { Guard } from '../guard.ts';
import { readNodeBody, toWebRequest, writeWebResponse } from './node.ts';

/**
 * Express middleware: serves the protected-resource metadata, answers challenges, and otherwise
 * sets `req.auth` (where the MCP SDK transports look) and `req.body` (the parsed JSON-RPC body),
 * then calls `next()`. Works with or without `express.json()` in front.
 *
 * @example app.use('/mcp', expressGuard(guard)); app.post('/mcp', (req, res) => transport.handleRequest(req, res, req.body));
 */
export function expressGuard(guard: Guard, options: { maxBodyBytes?: number } = {}) {
  const origin = new URL(guard.resource).origin;
  return async (req: ExpressRequest, res: ExpressResponse, next: NextFunction): Promise<void> => {
    try {
      let body: Uint8Array | string | undefined;
      if (req.body !== undefined && req.readableEnded) body = JSON.stringify(req.body);
      else {
        body = await readNodeBody(req, options.maxBodyBytes ?? 4 * 1024 * 1024);
        if (body === undefined) {
          const limit = options.maxBodyBytes ?? 4 * 1024 * 1024;
          return await writeWebResponse(req, res, errorResponse(payloadTooLarge(limit)));
        }
      }
      const request = toWebRequest(req, origin, body);
      // Express strips the mount path from req.url; the guard needs the full path.
      const full = new Request(new URL(req.originalUrl, origin), request);
      const served = guard.serveMetadata(full);
      if (served) return await writeWebResponse(req, res, served);
      // The body is in hand: the guard takes it as is rather than reading a clone of the request.
      const result = await guard.check(full, body);
      if (result instanceof Response) return await writeWebResponse(req, res, result);
      Object.assign(req, { auth: result.auth, body: result.parsedBody });
      next();
    } catch (err) {
      next(err);
    }
  };
}
