// Mask files, read at the config edge: a network never reads files (include/propnet/config.h).
#include "mask_file.h"

#include <propnet/config.h>
#include <propnet/models/network_mask.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

namespace propnet {
namespace {

// The file's masks: a JSON object's "relu_mask", or the text's lines without blanks and # comments.
std::vector<std::string> mask_lines(const std::string& path) {
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
    return {it->get<std::string>()};
  }
  std::vector<std::string> masks;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto begin = line.find_first_not_of(" \t");
    if (begin == std::string::npos || line[begin] == '#') continue;
    masks.push_back(line.substr(begin, line.find_last_not_of(" \t") - begin + 1));
  }
  TORCH_CHECK_VALUE(!masks.empty(), where, ": holds no mask");
  return masks;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string mask;
  for (const std::string& line : lines) mask += (mask.empty() ? "" : ".") + line;
  return mask;
}

// Whether `text` alone is a mask that `network` accepts.
bool fits(models::NetworkSpec network, const std::string& text) {
  try {
    network.mask = models::NetworkMask::bits(ReluMask::parse(text));
    models::resolve_network_mask(network);
    return true;
  } catch (const c10::Error&) {
    return false;
  }
}

}  // namespace

std::string read_relu_mask_file(const std::string& path) { return joined(mask_lines(path)); }

namespace config_detail {

ReluMask read_network_mask_file(const std::string& path, const models::NetworkSpec& network) {
  const std::vector<std::string> lines = mask_lines(path);
  const std::string mask = joined(lines);
  // A file of whole masks, one per line (the masks.txt of a random or exhaustive search), is not one mask split by unit.
  TORCH_CHECK_VALUE(lines.size() == 1 || fits(network, mask) || !fits(network, lines.front()), "relu_mask_file \"",
                    path, "\": holds ", lines.size(), " masks, one per line (as search --method random writes masks.txt), "
                    "not one; pick one, e.g. the first: --relu-mask \"$(sed -n 1p ", path, ")\"");
  try {
    return ReluMask::parse(mask);
  } catch (const c10::ValueError&) {
    TORCH_CHECK_VALUE(false, "relu_mask_file \"", path, "\": expected '0' (removed) and '1' (kept) per site, one unit "
                      "or stage per line if you like (got \"", mask, "\")");
  }
}

}  // namespace config_detail

}  // namespace propnet
