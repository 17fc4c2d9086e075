// Mask files, read at the config edge: a network never reads files (include/propnet/config.h).
#include <propnet/config.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

namespace propnet {

std::string read_relu_mask_file(const std::string& path) {
  const std::string where = "relu_mask_file \"" + path + "\"";
  std::ifstream file(path, std::ios::binary);
  TORCH_CHECK_VALUE(file, where, ": cannot open: ", std::strerror(errno));
  std::ostringstream content;
  content << file.rdbuf();
  const std::string text = content.str();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error&) {
      TORCH_CHECK_VALUE(false, where, ": invalid JSON");
    }
    const auto it = json.find("relu_mask");
    const auto masks = json.find("masks");
    TORCH_CHECK_VALUE(it != json.end() || masks == json.end() || !masks->is_array(), where, ": holds ",
                      masks->size(), " masks (a random or exhaustive search), not one; pass one line of the masks.txt "
                      "beside it with --relu-mask");
    TORCH_CHECK_VALUE(it != json.end() && it->is_string(), where, ": expected a \"relu_mask\" string in the JSON object");
    return it->get<std::string>();
  }
  std::string mask;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto begin = line.find_first_not_of(" \t");
    if (begin == std::string::npos || line[begin] == '#') continue;
    mask += (mask.empty() ? "" : ".") + line.substr(begin, line.find_last_not_of(" \t") - begin + 1);
  }
  TORCH_CHECK_VALUE(!mask.empty(), where, ": holds no mask");
  return mask;
}

}  // namespace propnet
