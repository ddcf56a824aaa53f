/* The I/O floor for hashing benchmarks: open, read to EOF and close every path given on
 * stdin (NUL-separated), with nothing else. Whatever hashes files cannot beat this. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void) {
  static char buffer[1 << 17];
  char* line = NULL;
  size_t capacity = 0;
  ssize_t length;
  unsigned long long bytes = 0, files = 0;
  while ((length = getdelim(&line, &capacity, '\0', stdin)) > 0) {
    int fd = open(line, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) bytes += (unsigned long long)n;
    close(fd);
    ++files;
  }
  free(line);
  fprintf(stderr, "%llu files, %llu bytes\n", files, bytes);
  return 0;
}
