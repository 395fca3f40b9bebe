/** The part of seek-bzip's API used here (the package ships no types). */
declare module 'seek-bzip' {
  interface ByteSource { readByte(): number; read(buf: Uint8Array, off: number, len: number): number; seek(pos: number): void; eof(): boolean }
  interface ByteSink { writeByte(b: number): void }
  const Bunzip: { decode(input: ByteSource | Uint8Array, output?: ByteSink | Uint8Array | number, multistream?: boolean): Uint8Array | undefined };
  export default Bunzip;
}
