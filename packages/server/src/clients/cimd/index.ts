export { isPublicAddress } from './address-policy.ts';
export { type CacheBounds, cacheLifetimeSeconds } from './cache-lifetime.ts';
export { isClientIdMetadataUrl, type ParseClientIdUrlOptions, parseClientIdUrl } from './client-id-url.ts';
export {
  type FetchDocumentOptions,
  type FetchedDocument,
  fetchJsonDocument,
  type ResolvedAddress,
  type Resolver,
  systemResolver,
} from './fetch-document.ts';
export { type CimdFetcher, type CimdFetcherOptions, createCimdFetcher } from './fetcher.ts';
export { type ClientMetadataDocument, parseClientMetadataDocument } from './metadata-document.ts';
