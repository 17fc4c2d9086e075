#pragma once
// Validation: the single-key ranges of the schema, then the rules that involve several keys.
#include "json_io.h"

namespace propnet::config_detail {

/// Every key's own range (these hold after each --set).
void check_fields(const ExperimentConfig& config, const Namer& where);
/// Rules across keys, checked once every flag is applied: the network against the registry and the
/// data set, and the training rules of `check_train_rules`.
void check_cross(const ExperimentConfig& config, const Namer& where);
/// The cross-key rules of the "train" object alone (milestones within epochs, Nesterov needs
/// momentum, what needs CUDA).
void check_train_rules(const TrainSpec& train, const Namer& where);
/// train.amp and train.cuda_graph against the device (unset: not known yet) and the number of ranks:
/// the one home of these rules (`propnet::check_device_rules`).
void check_device_rules(const TrainSpec& train, const std::optional<c10::Device>& device, int64_t ranks,
                        const Namer& where);
/// The cross-key rules of the "search" object (one budget, what each method accepts).
void check_search_rules(const SearchSpec& search, const Namer& where);

}  // namespace propnet::config_detail
