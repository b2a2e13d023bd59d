/**
 * What can go wrong making or playing a broadcast. The code is what tests and the fault report
 * carry (`detail.reason`); the message is for the log.
 */
export type SpeakerErrorCode =
  /** espeak-ng could not be started, failed, timed out or gave no audio. */
  | 'tts_failed'
  /** A recording could not be read or decoded (missing file, sox/opusdec failure). */
  | 'recording_failed'
  /** aplay could not be started, or exited with an error (no such ALSA device, device gone). */
  | 'playback_failed'
  /** The WAV file of the file sink could not be written. */
  | 'file_failed'
  /** The player did not finish within its deadline after the last sound was handed to it. */
  | 'playback_overrun'
  /** A WAV that is not 16-bit PCM, or not a WAV. */
  | 'bad_audio';

export class SpeakerError extends Error {
  constructor(
    readonly code: SpeakerErrorCode,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SpeakerError';
  }
}
