// language.cpp - the [given] helpers of modules 11-14 (tokenizer.h, embedding.h, transformer.h).
#include <string>
#include <vector>

#include "tinytorch/embedding.h"
#include "tinytorch/errors.h"
#include "tinytorch/tokenizer.h"
#include "tinytorch/transformer.h"

namespace tt {

std::vector<std::string> BpeTokenizer::byte_vocabulary() {
    std::vector<std::string> bytes;
    bytes.reserve(256);
    for (int b = 0; b < 256; ++b) bytes.emplace_back(1, static_cast<char>(b));
    return bytes;
}

Tensor ids_tensor(const std::vector<int64_t>& ids) {
    Tensor out = empty({static_cast<int64_t>(ids.size())});
    float* data = out.data();
    for (size_t i = 0; i < ids.size(); ++i) {
        // Floats hold every whole number up to 2^24 exactly; a larger id would silently change.
        TT_CHECK(ids[i] >= 0 && ids[i] < (int64_t{1} << 24), "ids_tensor: id ", ids[i], " at position ", i,
                 " is outside [0, 2^24), which a float cannot hold exactly");
        data[i] = static_cast<float>(ids[i]);
    }
    return out;
}

TransformerBlock& GPT::block(int64_t i) const {
    TT_CHECK(i >= 0 && i < config.num_layers, "GPT::block: block ", i, " does not exist (the model has ",
             config.num_layers, " layers)");
    return static_cast<TransformerBlock&>(*(*blocks)[static_cast<size_t>(i)]);
}

}  // namespace tt
