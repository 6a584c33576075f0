// tt_helper_asan overflow|integer - built with the sanitizers graders use (address, undefined).
//   overflow: reads one element past the end of a heap buffer, the way an off-by-one in a
//             student's Tensor::at would (AddressSanitizer: heap-buffer-overflow);
//   integer:  overflows a signed int (UndefinedBehaviorSanitizer: signed integer overflow).
#include <climits>
#include <cstdio>
#include <cstring>

namespace tt {
struct Buffer {
    float* data;
    int size;
    __attribute__((noinline)) float at(int i) const { return data[i]; }  // no bounds check
};
__attribute__((noinline)) int add_one(int x) { return x + 1; }
}  // namespace tt

float* volatile opaque_data = nullptr;  // hides the buffer's size from UBSan's object-size check

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "integer") == 0) {
        std::printf("%d\n", tt::add_one(INT_MAX - 2 + argc));
        return 0;
    }
    opaque_data = new float[4]();
    tt::Buffer buffer{opaque_data, 4};
    float sum = 0;
    for (int i = 0; i <= buffer.size; ++i) sum += buffer.at(i);  // one too many
    std::printf("sum %f\n", static_cast<double>(sum));
    delete[] buffer.data;
    return 0;
}
