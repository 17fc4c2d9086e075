#pragma once
// The network flags shared by `info`, `train` and `bench`, parsed into a typed NetworkSpec.
#include <cxxopts.hpp>

#include <propnet/models/network_spec.h>

namespace propnet::cli {

/// Adds --net, --depth, --variant, --relu-mask, --classes, --in-channels, --widen-factor and the
/// spec's architecture switches (--shortcut, --bottleneck-stride, ...) under the group "Network".
void add_network_flags(cxxopts::Options& options);

/// Reads the flags added by `add_network_flags`. Throws UsageError for missing or conflicting flags
/// and for values outside their choices; the registry validates names, depths and masks.
models::NetworkSpec network_spec_from(const cxxopts::ParseResult& flags);

/// Overrides the fields of `spec` whose flags were given explicitly (a config's network, say).
void apply_network_flags(models::NetworkSpec& spec, const cxxopts::ParseResult& flags);

}  // namespace propnet::cli
