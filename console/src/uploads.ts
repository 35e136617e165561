// Attaching files to an escalation. Files dropped onto the new-request form wait here until the
// escalation exists; its page then attaches them and shows how each went.

import { call, newIdempotencyKey, uploadEscalationAttachment, type Attachment, type Outcome } from "./api";

/** Uploads one file under its own name, safe to retry (an `Idempotency-Key` per file). */
export function attach(escalationId: string, file: File): Promise<Outcome<Attachment>> {
  return call(
    uploadEscalationAttachment({
      path: { id: escalationId },
      query: { filename: file.name },
      body: file,
      headers: { "Idempotency-Key": newIdempotencyKey() },
    }),
  );
}

const pending = new Map<string, File[]>();

export function queueUploads(escalationId: string, files: File[]): void {
  if (files.length > 0) pending.set(escalationId, files);
}

/** The files waiting for this escalation, handed over once. */
export function takeUploads(escalationId: string): File[] {
  const files = pending.get(escalationId) ?? [];
  pending.delete(escalationId);
  return files;
}
