/**
 * What an actuator fault's `reason` means, in words an officer reads (the event log's fault
 * text, the panel's home screen). Reasons come from the speaker driver (drivers/speaker/
 * errors.ts), the relay drivers (relay-siren.ts, amp-relay.ts) and the router's `no_done`
 * watch; a reason not listed here is shown as it is, never dropped.
 */
const WORDS: Record<string, [zh: string, en: string]> = {
  playback_failed: ['无法播放声音(请检查声卡、功放和音频线)', 'could not play sound (check the sound card, amplifier and cable)'],
  tts_failed: ['语音合成失败', 'text-to-speech failed'],
  file_failed: ['无法写入音频文件(请检查存储空间)', 'could not write the audio file (check the storage)'],
  playback_overrun: ['播放没有按时结束', 'playback did not finish on time'],
  no_done: ['没有回报播放完成(请检查设备电源和网络)', 'never reported the broadcast done (check its power and network)'],
  recording_failed: ['录音无法播放,已改用语音合成', 'the recording could not be played; text-to-speech was used'],
  relay_did_not_follow: ['继电器没有按指令动作', 'the relay did not follow the command'],
  write_failed: ['继电器无应答(Modbus 写入失败)', 'the relay did not answer (Modbus write failed)'],
  no_bus: ['所在总线未配置', 'its bus is not configured'],
  profile_has_no_action: ['设备型号不支持这个动作', 'its device profile has no such action'],
};

export function actuatorFaultWords(reason: string): { zh: string; en: string } {
  const w = WORDS[reason];
  return w ? { zh: w[0], en: w[1] } : { zh: reason, en: reason };
}
