#include <propnet/atomic_file.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <c10/util/Exception.h>

namespace propnet {
namespace {

// fsync of a file or folder; a folder that cannot be opened for reading (odd file systems) is skipped,
// since the rename itself has happened.
void sync(const std::filesystem::path& path, bool must) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    TORCH_CHECK(!must, "cannot open \"", path.string(), "\" to flush it: ", std::strerror(errno));
    return;
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  TORCH_CHECK(rc == 0 || !must, "cannot flush \"", path.string(), "\" to disk: ", std::strerror(error));
}

}  // namespace

void write_atomically(const std::filesystem::path& path, const std::function<void(const std::filesystem::path&)>& write,
                      const std::filesystem::path& previous) {
  const std::filesystem::path temp = path.string() + ".tmp." + std::to_string(::getpid());
  try {
    write(temp);
    sync(temp, /*must=*/true);
    std::error_code error;
    if (!previous.empty() && std::filesystem::exists(path)) {
      std::filesystem::rename(path, previous, error);
      TORCH_CHECK(!error, "cannot rename \"", path.string(), "\" to \"", previous.string(), "\": ", error.message());
    }
    std::filesystem::rename(temp, path, error);
    TORCH_CHECK(!error, "cannot rename \"", temp.string(), "\" to \"", path.string(), "\": ", error.message());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
  sync(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path(), /*must=*/false);
}

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  write_atomically(path, [&](const std::filesystem::path& temp) {
    std::ofstream out(temp, std::ios::binary);
    out << text;
    out.flush();
    TORCH_CHECK(out.good(), "cannot write \"", temp.string(), "\": ", std::strerror(errno));
  });
}

}  // namespace propnet
