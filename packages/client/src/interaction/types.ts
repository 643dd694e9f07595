/** One authorization round trip: a redirect URI, then the wait for the browser to come back to it. */
export interface PendingAuthorization {
  /** The redirect URI to register and send. */
  redirectUri: string;
  /** Sends the user to `authorizationUrl` and resolves with the URL the server redirected back to. */
  complete(authorizationUrl: URL): Promise<URL>;
  /** Releases resources (the loopback listener) whatever happened. */
  close(): Promise<void>;
}

/** How the client gets a user through the authorization endpoint. */
export interface AuthorizationInteraction {
  begin(): Promise<PendingAuthorization>;
}
