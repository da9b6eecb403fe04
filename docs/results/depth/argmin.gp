# rerun with: gnuplot argmin.gp
set terminal pngcairo size 760,520 enhanced font 'DejaVu Sans,10'
set output 'argmin.png'
set title 'Best log2 learning rate against depth (grid argmin; dashed: parabola fitted to the whole curve)'
set logscale x 2
set grid lc rgb '#dddddd'
set xlabel 'depth (blocks)'
set ylabel 'log2 learning rate'
set key bottom left
set offsets graph 0.05, graph 0.05, 0.25, 0.25
plot 'off-best.dat' using 3:1 with linespoints lw 2 pt 7 lc 1 title 'plain µP (depth scaling off)', \
     'off-best.dat' using 3:4 with lines dt 2 lc 1 notitle, \
     'alpha05-best.dat' using 3:1 with linespoints lw 2 pt 7 lc 2 title 'Depth-µP (α = 0.5)', \
     'alpha05-best.dat' using 3:4 with lines dt 2 lc 2 notitle, \
     'alpha1-best.dat' using 3:1 with linespoints lw 2 pt 7 lc 3 title 'CompleteP (α = 1)', \
     'alpha1-best.dat' using 3:4 with lines dt 2 lc 3 notitle, \
     'alpha1-eps-best.dat' using 3:1 with linespoints lw 2 pt 7 lc 4 title 'CompleteP (α = 1), ε scaling', \
     'alpha1-eps-best.dat' using 3:4 with lines dt 2 lc 4 notitle
