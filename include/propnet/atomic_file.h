#pragma once
// Files that are never torn: what propnet writes into run folders (checkpoints, models, metrics,
// config.json, summary.json) goes through these.
#include <filesystem>
#include <functional>
#include <string>

namespace propnet {

/// Replaces `path` atomically and durably: `write` fills a temporary file beside it (named after this
/// process, so processes sharing a folder never share one), which is flushed to disk (fsync), renamed
/// over `path`, and the folder is fsync'd so that the rename survives a crash or power cut. Readers
/// see the old file or the new one, never a part. With a non-empty `previous`, the old `path` (if
/// any) is kept there, renamed just before the new file takes its place. Throws c10::Error naming the
/// file and the OS reason; the temporary file is removed on failure.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path& temp)>& write,
                      const std::filesystem::path& previous = {});

/// `write_atomically` for text.
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace propnet
