// The client shares only the wire protocol with the server package.
export {
  type AckResponse,
  type BufferDelta,
  type BufferRun,
  CloseCode,
  type ComponentData,
  type Patch,
  type PatchBroadcast,
  PROTOCOL_VERSION,
  type ServerMessage,
} from 'canvas-store-server/protocol';
