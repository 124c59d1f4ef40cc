/* exit_with CODE [ANY...]: exits with CODE % 7 (see forker). */
#include <stdlib.h>

int main(int argc, char **argv)
{
	return argc > 1 ? atoi(argv[1]) % 7 : 0;
}
