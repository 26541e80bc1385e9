#include "s3reconcile/result.h"

namespace s3reconcile {

PassCounts& PassCounts::operator+=(const PassCounts& o) {
  for (const auto& [name, field] : kPassCountFields) this->*field += o.*field;
  return *this;
}

void Result::add(const Result& o) {
  totals() += o.totals();
  for (const auto& [bucket, counts] : o.buckets) buckets[bucket] += counts;
  api_pages += o.api_pages;
}

}  // namespace s3reconcile
